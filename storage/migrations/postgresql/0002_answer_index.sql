-- See ../0002_answer_index.sql.
CREATE INDEX answers_by_question ON answers (question_id, value);
CREATE INDEX responses_by_activity ON responses (survey_id, updated_at);
