-- The Discord roles the requester held when the request was filed (a JSON array of role ids as
-- strings), so a budget whose team is a role's holders counts the request by them at its approval
-- and later, whatever roles the requester holds by then. Requests filed before this held none.
ALTER TABLE requests ADD COLUMN requester_roles TEXT NOT NULL DEFAULT '[]';
