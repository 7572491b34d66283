-- 0008 for PostgreSQL: BIGINT for the channel and message ids and the stamp.
ALTER TABLE community_recaps ADD COLUMN post_state TEXT NOT NULL DEFAULT '';  -- '' | 'claimed' | 'sent' | 'nowhere'
ALTER TABLE community_recaps ADD COLUMN post_channel_id BIGINT;
ALTER TABLE community_recaps ADD COLUMN post_message_id BIGINT;
ALTER TABLE community_recaps ADD COLUMN posted_at BIGINT;
ALTER TABLE community_recaps ADD COLUMN notice_state TEXT NOT NULL DEFAULT '';  -- '' | 'dm'
UPDATE community_recaps SET post_state = 'legacy' WHERE state = 'approved';
