-- Incidents keep the detectors' reasons for opening and escalating them, so that an
-- analyst and the organisation can see why, not only what.
ALTER TABLE incidents ADD COLUMN reasons TEXT NOT NULL DEFAULT '[]';
