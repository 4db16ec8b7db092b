-- See ../0005_shown_question.sql.
ALTER TABLE responses ADD COLUMN shown_question TEXT COLLATE "C";
