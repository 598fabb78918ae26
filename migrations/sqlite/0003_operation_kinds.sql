-- A request is an operation of some kind; `spec` holds what that kind needs (a purchase's spec,
-- as before). Every request filed before kinds existed was a purchase.
ALTER TABLE requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'buy';
