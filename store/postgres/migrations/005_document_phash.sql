-- The perceptual hash of each uploaded picture (store.ImageHash: 128 hex
-- digits), so that the same picture sent for a second material is
-- recognised even after a chat app recompressed it. Null for files that
-- could not be decoded and for documents recorded before this column.
alter table documents add column phash text check (phash ~ '^[0-9a-f]{128}$');
