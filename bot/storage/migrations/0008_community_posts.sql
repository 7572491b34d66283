-- Community recaps reach people: the notice to the moderators when one is submitted, and the post of
-- an approved recap (in the episode's thread, else the recaps channel), claimed before it is sent and
-- recorded after, so a crash never posts it twice or loses it.
ALTER TABLE community_recaps ADD COLUMN post_state TEXT NOT NULL DEFAULT '';  -- '' | 'claimed' | 'sent' | 'nowhere'
ALTER TABLE community_recaps ADD COLUMN post_channel_id INTEGER;
ALTER TABLE community_recaps ADD COLUMN post_message_id INTEGER;
ALTER TABLE community_recaps ADD COLUMN posted_at INTEGER;
