-- A released instance: when cvmbot gave it back and which release request did it. It is no longer
-- watched (a prepaid one stays in Tencent's recycle bin for a while; that is not news).
ALTER TABLE instances ADD COLUMN released_at BIGINT;
ALTER TABLE instances ADD COLUMN release_request_id BIGINT;
