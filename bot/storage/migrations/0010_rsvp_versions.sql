-- 0010: which RSVP writes each watch party's announcement shows, so a start can bring an
-- announcement a crash left with stale counts up to date. `written` counts every RSVP row written
-- (by trigger, in the writing statement itself); `shown` is the `written` an announcement edit read
-- before the counts it shows.
CREATE TABLE rsvp_versions (
    party_id  INTEGER PRIMARY KEY REFERENCES watch_parties (id) ON DELETE CASCADE,
    written   INTEGER NOT NULL DEFAULT 0,
    shown     INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER rsvps_written_on_insert AFTER INSERT ON rsvps
BEGIN
    INSERT INTO rsvp_versions (party_id, written) VALUES (NEW.party_id, 1)
    ON CONFLICT (party_id) DO UPDATE SET written = written + 1;
END;

CREATE TRIGGER rsvps_written_on_update AFTER UPDATE ON rsvps
BEGIN
    INSERT INTO rsvp_versions (party_id, written) VALUES (NEW.party_id, 1)
    ON CONFLICT (party_id) DO UPDATE SET written = written + 1;
END;
