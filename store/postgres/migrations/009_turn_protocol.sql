-- The turn protocol (docs/turns.md): one pipelined batch per turn with only
-- the rows that changed, guarded by the application's sequence number.

-- seq counts the recorded changes of an application. A turn names the seq
-- its session was loaded at; a different one aborts the turn's batch (the
-- cached session was stale: staff, an import or another process changed the
-- application) and the turn runs again on the recorded state.
alter table applications add column seq bigint not null default 1;

-- The session snapshot in the session's own encoding (dialogs: a version
-- byte, then the body), which PostgreSQL need not parse. Rows written before
-- this migration keep theirs in the jsonb column session; readers take
-- snapshot first, then session.
alter table applications add column snapshot bytea;

-- What the bot answered each message (dialogs.EncodeMessages), so that a
-- platform's retry of a recorded message gets the same reply and staff see
-- the conversation; reply_inline is how many of those messages left in the
-- platform's HTTP response (the rest went by the outbox).
alter table inbound_messages add column reply bytea;
alter table inbound_messages add column reply_inline int not null default 0;
-- kind is 'candidate' for what a candidate sent, 'system' for a change made
-- by staff, an import or the system (its msg_id makes it idempotent; its
-- text names the actor).
alter table inbound_messages add column kind text not null default 'candidate'
    check (kind in ('candidate', 'system'));

-- regbot_expect_seq is the guard of a turn's application update: it returns
-- true when the row's seq is the one the turn expects, and otherwise raises
-- SQLSTATE RB409, which aborts the turn's whole batch.
create function regbot_expect_seq(current_seq bigint, expected bigint) returns boolean
language plpgsql as $$
begin
    if current_seq is distinct from expected then
        raise exception 'application changed since the session was loaded (seq % , expected %)', current_seq, expected
            using errcode = 'RB409';
    end if;
    return true;
end
$$;

---- create above / drop below ----

drop function regbot_expect_seq(bigint, bigint);
alter table inbound_messages drop column kind;
alter table inbound_messages drop column reply_inline;
alter table inbound_messages drop column reply;
alter table applications drop column snapshot;
alter table applications drop column seq;
