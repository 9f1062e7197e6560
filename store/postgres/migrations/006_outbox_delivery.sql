-- What notify/ needs to deliver outbox rows: the fast path's claim names
-- its process, the durable queue (River) is told which rows it owns, and a
-- message of several sends that failed half-way resumes after the ones that
-- went out.

-- The process holding claimed_until (an instance id, unique per start).
alter table outbox add column claimed_by text;
-- When the row was handed to the durable queue; null: a fast path holds it,
-- or nobody does yet (the sweeper hands such rows over once their claim
-- expired).
alter table outbox add column queued_at timestamptz;
-- How many of the channel's sends for this row went out in earlier attempts.
alter table outbox add column parts_sent int not null default 0;

-- The sweeper's view: pending rows the queue does not own yet (few: the
-- fast path's rows in flight, and the rows of a crashed process).
create index outbox_unqueued on outbox (id) where state = 'pending' and queued_at is null;

---- create above / drop below ----

drop index outbox_unqueued;
alter table outbox drop column parts_sent;
alter table outbox drop column queued_at;
alter table outbox drop column claimed_by;
