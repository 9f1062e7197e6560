-- Staff and the status import find an application by the candidate's ID
-- number or mobile (store.LookupKey). The privacy work will replace these
-- with blind indexes; the lookup stays behind FindApplications.
create index applications_id_number on applications (plan_id, (answers->>'id_number'));
create index applications_mobile on applications (plan_id, (answers->>'mobile'));

---- create above / drop below ----

drop index applications_mobile;
drop index applications_id_number;
