-- The durable outbox: every message the bot sends after the HTTP response
-- (customer-service messages, Telegram sends, status notifications, staff
-- replies, reminders, broadcasts) is a row here, inserted in the same
-- transaction as what caused it. notify/ delivers the rows of one identity
-- in id order and records each attempt.
create table outbox (
    id           bigint generated always as identity primary key,
    candidate_id bigint references candidates (id) on delete cascade,
    channel      text not null,
    user_id      text not null,
    -- Why the message exists.
    kind         text not null check (kind in ('reply', 'notification', 'staff', 'reminder', 'broadcast')),
    -- A message with a key is queued once: a second insert with the same
    -- key does nothing (re-imported status, a re-run reminder).
    dedup_key    text,
    -- The channel-neutral messages (dialogs.EncodeMessages).
    payload      bytea not null,
    -- Not delivered before this time (reminders).
    not_before   timestamptz not null,
    state        text not null default 'pending'
                 check (state in ('pending', 'sent', 'failed', 'skipped', 'cancelled')),
    attempts     int not null default 0,
    last_error   text not null default '',
    -- The process that inserted the row delivers it itself until this
    -- time (the fast path); after it, the queue takes it over.
    claimed_until timestamptz,
    created_at   timestamptz not null,
    sent_at      timestamptz
);
create unique index outbox_dedup_key on outbox (dedup_key) where dedup_key is not null;
create index outbox_identity_pending on outbox (channel, user_id, id) where state = 'pending';
create index outbox_candidate on outbox (candidate_id, id);

-- Every failed delivery attempt, for staff to see why a message is late or
-- was given up.
create table outbox_attempts (
    outbox_id bigint not null references outbox (id) on delete cascade,
    at        timestamptz not null,
    error     text not null,
    permanent boolean not null default false
);
create index outbox_attempts_outbox on outbox_attempts (outbox_id, at);

---- create above / drop below ----

drop table outbox_attempts;
drop table outbox;
