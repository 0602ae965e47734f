-- A delivery resent while still on its retry schedule goes back to it if the manual attempt
-- fails: `resume_at` is when its next scheduled attempt was due. NULL for every other delivery.
ALTER TABLE deliveries ADD COLUMN resume_at bigint;
