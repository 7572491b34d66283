-- Community recaps reach people: the notice to the moderators when one is submitted, and the post of
-- an approved recap (in the episode's thread, else the recaps channel), claimed before it is sent and
-- recorded after, so a crash never posts it twice or loses it.
ALTER TABLE community_recaps ADD COLUMN post_state TEXT NOT NULL DEFAULT '';  -- '' | 'claimed' | 'sent' | 'nowhere'
ALTER TABLE community_recaps ADD COLUMN post_channel_id INTEGER;
ALTER TABLE community_recaps ADD COLUMN post_message_id INTEGER;
ALTER TABLE community_recaps ADD COLUMN posted_at INTEGER;
-- Whether the author's notice went out by DM: claimed before the DM is sent, so a retry after a stop
-- looks for it in the DM channel instead of telling the author twice.
ALTER TABLE community_recaps ADD COLUMN notice_state TEXT NOT NULL DEFAULT '';  -- '' | 'dm'
-- Recaps approved before posts existed were shown in /recap only: they are not posted now.
UPDATE community_recaps SET post_state = 'legacy' WHERE state = 'approved';
