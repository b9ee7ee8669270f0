"""Synthetic discharge notes and questions for tests (no real patient data).

``write_suite`` writes a loadable ``discharge_synth/v1`` suite (suite.yaml, cases.jsonl,
documents.jsonl) where each document belongs to one split, so the embedding variant's
split-specific paths are exercised. Questions are phrased in patient language, unlike the
note's wording, so retrieval is not a string match.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CONDITIONS = [
    ("community-acquired pneumonia", "Amoxicillin", "500 mg by mouth three times a day for 5 more days", "infection"),
    ("heart failure exacerbation", "Furosemide", "40 mg by mouth once every morning", "fluid"),
    ("atrial fibrillation", "Apixaban", "5 mg by mouth twice a day", "blood clots"),
    ("type 2 diabetes with high blood sugar", "Metformin", "1000 mg by mouth twice a day with meals", "sugar"),
    ("COPD exacerbation", "Prednisone", "40 mg by mouth once a day for 3 more days", "lung swelling"),
    ("cellulitis of the left leg", "Cephalexin", "500 mg by mouth four times a day for 7 days", "skin infection"),
    ("kidney stone", "Tamsulosin", "0.4 mg by mouth once a day at bedtime", "passing the stone"),
    ("appendicitis after laparoscopic appendectomy", "Oxycodone", "5 mg by mouth every 6 hours as needed", "pain"),
    ("deep vein thrombosis", "Rivaroxaban", "15 mg by mouth twice a day with food", "blood clots"),
    ("high blood pressure emergency", "Amlodipine", "10 mg by mouth once a day", "blood pressure"),
]
SECOND_MEDS = [
    ("Metoprolol", "25 mg by mouth twice a day"),
    ("Atorvastatin", "40 mg by mouth at night"),
    ("Pantoprazole", "40 mg by mouth before breakfast"),
    ("Lisinopril", "10 mg by mouth once a day"),
    ("Acetaminophen", "650 mg by mouth every 6 hours as needed for pain"),
]
DIETS = [
    "Follow a low sodium diet with less than 2 grams of salt per day. Avoid canned soups and chips.",
    "Eat a heart healthy diet. Limit fried foods and red meat.",
    "Follow a diabetic diet. Avoid sugary drinks and sweets.",
    "Start with clear liquids, then soft foods, then your regular diet as tolerated.",
    "Limit fluids to 1.5 liters per day. Weigh yourself every morning.",
]
ACTIVITIES = [
    "No lifting more than 10 pounds for 2 weeks. Walking is encouraged.",
    "You may return to normal activity as tolerated. Do not drive while taking pain medicine.",
    "Rest for the first 3 days, then slowly increase walking each day.",
    "Avoid strenuous exercise for 4 weeks. No swimming until cleared by your doctor.",
]
FOLLOWUPS = [
    "See Dr. Patel in cardiology clinic on Monday at 9:00 AM.",
    "Follow up with your primary care doctor within 7 days.",
    "Return to the surgery clinic in 2 weeks to check your incision.",
    "Have blood tests drawn in 3 days at the outpatient lab.",
]
WARNINGS = [
    "Call 911 or return to the emergency room for chest pain, trouble breathing, or fainting.",
    "Come back right away if you have fever over 101 F, worsening redness, or pus from the wound.",
    "Seek care for black stools, vomiting blood, or severe belly pain.",
    "Return for swelling of the legs, weight gain of more than 3 pounds in 2 days, or shortness of breath.",
]
WOUNDS = [
    "Keep the incision clean and dry. You may shower after 48 hours; do not soak in a bath.",
    "Change the dressing once a day. Wash gently with soap and water.",
]

# (question templates, section key) -- patient wording, not the note's wording
QUESTIONS = {
    "med1": ["How many times a day do I take the {drug}?", "When am I supposed to take {drug}?"],
    "med2": ["What's the dose of my {drug2}?", "Do I keep taking {drug2} at home?"],
    "diet": ["Is there anything I shouldn't eat now?", "What am I allowed to eat at home?"],
    "activity": ["When can I go back to the gym?", "Am I allowed to carry heavy bags?"],
    "followup": ["Who do I see after I get home?", "When is my next check-up?"],
    "warning": ["What signs mean I need to go back to the ER?", "Which symptoms are an emergency?"],
    "diagnosis": ["What was the reason I was admitted?", "What illness did they treat me for?"],
    "wound": ["How do I look after my cut from surgery?", "Is it okay to take a bath?"],
}
UNANSWERABLE = ["Can I drink wine with my new pills?", "Will my insurance pay for the ambulance?"]


def make_document(index: int, rng: random.Random) -> tuple[str, dict[str, str]]:
    """One note plus the verbatim passage behind each question key."""
    condition, drug, dose, purpose = CONDITIONS[index % len(CONDITIONS)]
    drug2, dose2 = SECOND_MEDS[index % len(SECOND_MEDS)]
    diet, activity = rng.choice(DIETS), rng.choice(ACTIVITIES)
    followup, warning = rng.choice(FOLLOWUPS), rng.choice(WARNINGS)
    passages = {
        "diagnosis": f"You were treated for {condition}.",
        "med1": f"1. {drug} {dose} for {purpose}.",
        "med2": f"2. {drug2} {dose2}.",
        "diet": diet,
        "activity": activity,
        "followup": followup,
        "warning": warning,
    }
    parts = [
        f"DISCHARGE SUMMARY\nPatient: Synthetic Patient {index:03d}\n",
        f"DISCHARGE DIAGNOSIS:\n{passages['diagnosis']} Your symptoms improved during your stay.\n",
        "HOSPITAL COURSE\nYou were admitted on day 1 and monitored closely. Tests were done and treatment was "
        "started. Your condition improved and you are ready to go home.\n",
        f"DISCHARGE MEDICATIONS:\n{passages['med1']}\n{passages['med2']}\n",
        f"## Diet\n{diet}\n",
        f"ACTIVITY: {activity}\n",
    ]
    if index % 3 == 0:
        passages["wound"] = rng.choice(WOUNDS)
        parts.append(f"WOUND CARE:\n{passages['wound']}\n")
    parts += [f"FOLLOW-UP:\n{followup}\n", f"WHEN TO CALL YOUR DOCTOR\n{warning}\n"]
    return "\n".join(parts), passages


def make_suite_rows(n_documents: int = 12, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """(documents, cases); documents 0..n-1 cycle through train, train, dev, test splits."""
    rng = random.Random(seed)
    documents, cases = [], []
    split_cycle = ["train", "train", "dev", "test"]
    for index in range(n_documents):
        text, passages = make_document(index, rng)
        doc_id = f"synth-{index:03d}"
        split = split_cycle[index % len(split_cycle)]
        documents.append({"id": doc_id, "title": f"Synthetic discharge {index}", "text": text})
        drug = CONDITIONS[index % len(CONDITIONS)][1]
        drug2 = SECOND_MEDS[index % len(SECOND_MEDS)][0]
        for key, passage in passages.items():
            template = QUESTIONS[key][0 if split == "train" else 1]  # train never shares wording with test
            question = template.format(drug=drug, drug2=drug2)
            cases.append({
                "id": f"{doc_id}-{key}", "split": split, "document_id": doc_id, "question": question,
                "gold_passage": passage, "labels": {"answerable": True},
            })
        cases.append({
            "id": f"{doc_id}-unanswerable", "split": split, "document_id": doc_id,
            "question": UNANSWERABLE[0 if split == "train" else 1], "labels": {"answerable": False},
        })
    return documents, cases


def write_suite(root: Path, n_documents: int = 12, seed: int = 0, name: str = "discharge_synth") -> Path:
    """Write ``root/<name>/v1`` and return ``root`` (pass it as ``suites_dir`` to load_suite)."""
    documents, cases = make_suite_rows(n_documents, seed)
    return write_rows(root, documents, cases, name)


def write_rows(root: Path, documents: list[dict], cases: list[dict], name: str = "discharge_synth") -> Path:
    """Write given rows as a suite (tests edit rows first, e.g. to plant a leak)."""
    folder = root / name / "v1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(
        f"name: {name}\nversion: v1\ntask: discharge_qa\ndescription: synthetic test suite\n"
        "metrics:\n  - name: retrieval\neval_splits: [test]\n"
    )
    (folder / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in documents))
    (folder / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    return root
