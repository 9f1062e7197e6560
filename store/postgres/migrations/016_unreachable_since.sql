-- An identity is unreachable when the platform refused to deliver to it
-- after the candidate's last message on it: identities.unreachable_at is
-- the time of the latest refusal, and a message recorded after it makes
-- the identity reachable again without touching identities.
--
-- Until now every candidate message cleared the mark with an update of
-- identities in the message's insert (a writable CTE): a second table
-- opened, locked and scanned on every turn, though the mark is almost
-- never set. On the turn's batch that was as costly as the application
-- update itself (pgbench, 16 clients: 8.3k inserts/s with the CTE, 10.7k
-- without). Readers ask regbot_unreachable instead, which looks at the
-- candidate's latest message only when a mark is set.
--
-- Existing data needs no change: a mark still set was set after the
-- identity's last message (any later message cleared it).
create function regbot_unreachable(cand bigint, ch text, uid text, marked timestamptz) returns boolean
language sql stable parallel safe as $$
    select case when marked is null then false
        else coalesce((
            select m.at <= marked from inbound_messages m
            where m.candidate_id = cand and m.channel = ch and m.user_id = uid and m.kind <> 'system'
            order by m.id desc limit 1), true)
    end
$$;

---- create above / drop below ----

-- Going back to marks cleared by each message: clear the ones a later
-- message already cleared.
update identities i set unreachable_at = null
where unreachable_at is not null and not regbot_unreachable(i.candidate_id, i.channel, i.user_id, i.unreachable_at);
drop function regbot_unreachable(bigint, text, text, timestamptz);
