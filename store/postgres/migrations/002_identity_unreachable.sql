-- An identity the platform refuses to deliver to (the user blocked the bot,
-- Telegram 403): notifications skip it until the candidate writes again.
alter table identities add column unreachable_at timestamptz;
