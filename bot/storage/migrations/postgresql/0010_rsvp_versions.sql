-- 0010 for PostgreSQL: the same counter, kept by a trigger function (PostgreSQL triggers call one).
CREATE TABLE rsvp_versions (
    party_id  BIGINT  PRIMARY KEY REFERENCES watch_parties (id) ON DELETE CASCADE,
    written   BIGINT  NOT NULL DEFAULT 0,
    shown     BIGINT  NOT NULL DEFAULT 0
);

CREATE FUNCTION rsvps_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rsvp_versions (party_id, written) VALUES (NEW.party_id, 1)
    ON CONFLICT (party_id) DO UPDATE SET written = rsvp_versions.written + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER rsvps_written_on_insert AFTER INSERT ON rsvps
    FOR EACH ROW EXECUTE FUNCTION rsvps_written();

CREATE TRIGGER rsvps_written_on_update AFTER UPDATE ON rsvps
    FOR EACH ROW EXECUTE FUNCTION rsvps_written();
