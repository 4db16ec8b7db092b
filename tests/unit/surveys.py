"""Small surveys for the engine and loader tests."""

from __future__ import annotations

from pathlib import Path

from bot.survey.loader import load_survey
from bot.survey.model import Survey

BASIC = """
id: basic
version: 3
default_language: en
languages: [en, ar]
title: {en: Basic, ar: أساسي}
introduction: {en: Intro, ar: مقدمة}
consent:
  notice: {en: Notice, ar: إشعار}
  details: {en: Details, ar: تفاصيل}
choice_lists:
  yes_no:
    - {id: yes, label: {en: "Yes", ar: نعم}}
    - {id: no, label: {en: "No", ar: لا}}
questions:
  - id: work
    type: select_one
    required: true
    text: {en: "Do you work?", ar: هل تعمل؟}
    choices: yes_no
  - id: hours
    type: integer
    required: true
    relevant: "${work} = 'yes'"
    min: 1
    max: 80
    text: {en: "Hours a week?", ar: كم ساعة في الأسبوع؟}
  - id: thanks_worker
    type: note
    relevant: "${hours} > 40"
    text: {en: That is a lot., ar: هذا كثير.}
  - id: sectors
    type: select_multiple
    relevant: "${work} = 'yes'"
    text: {en: "Sectors?", ar: القطاعات؟}
    constraint: "not(selected(., 'none')) or count-selected(.) = 1"
    constraint_message: {en: '"None" goes alone.', ar: «لا شيء» وحده.}
    choices:
      - {id: farm, label: {en: Farming, ar: الزراعة}}
      - {id: care, label: {en: Care, ar: الرعاية}}
      - {id: none, label: {en: None, ar: لا شيء}}
  - id: born
    type: date
    text: {en: "Date of birth?", ar: تاريخ الميلاد؟}
  - id: rating
    type: scale
    min: 1
    max: 5
    text: {en: "How was it?", ar: كيف كان؟}
  - id: income
    type: decimal
    min: 0
    text: {en: "Income?", ar: الدخل؟}
  - id: story
    type: text
    max_length: 20
    text: {en: Tell us, ar: أخبرنا}
"""


def survey_from(text: str, tmp_path: Path, name: str = "survey.yaml") -> Survey:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    survey, _ = load_survey(path)
    return survey
