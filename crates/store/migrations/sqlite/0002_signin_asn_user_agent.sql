-- Sign-ins carry the source's autonomous system and the client's user agent, which tie
-- one campaign's attempts together across addresses and organisations.
ALTER TABLE signins ADD COLUMN asn INTEGER;
ALTER TABLE signins ADD COLUMN user_agent TEXT;
