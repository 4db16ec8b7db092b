-- Figures count answers per question and per value (breakdowns, drop-off funnel):
-- an index on (question_id, value) answers them without reading every row.
CREATE INDEX answers_by_question ON answers (question_id, value);
CREATE INDEX responses_by_activity ON responses (survey_id, updated_at);
