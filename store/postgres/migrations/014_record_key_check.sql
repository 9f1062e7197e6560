-- The record key's check value: a constant sealed under the record key
-- (postgres.Store.CheckKeys). An instance whose keys cannot open it was
-- given another key than the one the record is sealed under (for example a
-- key generated in its own data_dir) and refuses to start instead of
-- writing rows nobody else can read and blind indexes nobody can find.
create table record_key_check (
    id smallint primary key default 1 check (id = 1),
    canary text not null,
    updated_at timestamptz not null default now()
);

---- create above / drop below ----

drop table record_key_check;
