"""Synthetic clinical wording for fixtures: session notes, homework, mood notes,
journal passages and safety-plan items.

All of it is invented and generic (no real person's words), written the way
clinicians and patients write, and none of it uses crisis language: bulk-loaded
journals must not raise crisis detections. The seeded crises are written as
detections of their own.
"""

from __future__ import annotations

__all__ = [
    "COPING_STRATEGIES",
    "DISTRACTION_PLACES",
    "ENVIRONMENTAL_SAFETY",
    "GOALS",
    "HOMEWORK",
    "INTERVENTIONS",
    "JOURNAL_CLOSINGS",
    "JOURNAL_OPENINGS",
    "JOURNAL_TITLES",
    "MOOD_FACTORS",
    "MOOD_NOTES_HIGH",
    "MOOD_NOTES_LOW",
    "MOOD_TRIGGERS",
    "REASONS_TO_LIVE",
    "RESOLUTIONS",
    "SESSION_NOTES",
    "WARNING_SIGNS",
]

INTERVENTIONS = (
    "Cognitive restructuring",
    "Behavioral activation",
    "Psychoeducation",
    "Homework review",
    "Mindfulness practice",
    "Graded exposure",
    "Problem-solving training",
    "Sleep hygiene review",
    "Relapse prevention planning",
    "Values clarification",
)

GOALS = (
    "Reduce depressive symptoms (PHQ-9 below 10)",
    "Reduce worry to under one hour a day",
    "Improve coping skills for work stress",
    "Sleep at least six hours on most nights",
    "Return to regular exercise three times a week",
    "Reconnect with two friends each month",
    "Attend social events without leaving early",
    "Resume part-time work or study",
)

SESSION_NOTES = (
    "Reviewed thought record; patient identified all-or-nothing thinking at work.",
    "Discussed activity schedule; completed four of five planned activities.",
    "Practised paced breathing in session; reported anxiety 6/10 falling to 3/10.",
    "Explored avoidance of social situations; agreed a first exposure step.",
    "Patient reports improved sleep since keeping a regular wake time.",
    "Reviewed the week; mood lower mid-week after a conflict with a colleague.",
    "Worked on balanced thoughts about a recent setback with family.",
    "Patient engaged well; homework partially completed, barriers discussed.",
    "Reviewed progress against goals; patient notes more energy in the mornings.",
    "Introduced worry time; patient to trial 15 minutes each evening.",
)

HOMEWORK = (
    "Daily thought record",
    "Mood tracking each evening",
    "Two pleasant activities this week",
    "Worry time, 15 minutes at 6pm",
    "Paced breathing twice a day",
    "Keep a regular wake time",
    "One small exposure step",
    "Gratitude list, three items a day",
)

MOOD_FACTORS = {
    "low": ("Poor sleep", "Work stress", "Feeling isolated", "Low energy"),
    "mid": ("Routine day", "Some exercise", "Talked to a friend", "Busy at work"),
    "high": ("Good sleep", "Exercise", "Time with family", "Time outdoors"),
}
MOOD_TRIGGERS = (
    "Deadline at work",
    "Argument at home",
    "Commute",
    "Bad news",
    "Money worries",
    "Crowded places",
)
MOOD_NOTES_LOW = (
    "Hard to get going this morning.",
    "Tired and flat most of the day.",
    "Worried about the week ahead.",
    "Skipped my walk, felt restless.",
)
MOOD_NOTES_HIGH = (
    "Good walk after work, felt lighter.",
    "Slept well and got a lot done.",
    "Nice dinner with friends.",
    "Used the breathing exercise before the meeting and it helped.",
)

JOURNAL_TITLES = (
    "End of the week",
    "Thinking about work",
    "Small wins",
    "A harder day",
    "Weekend reflections",
    "After therapy",
    "Things I am grateful for",
)
JOURNAL_OPENINGS = (
    "Today started slowly and I noticed I was tired before lunch.",
    "Work was busy and I kept thinking about the deadline on Friday.",
    "I went for a walk in the park and it helped me clear my head.",
    "I had a long call with my sister and we talked about the holidays.",
    "I tried the thought record from my session after the meeting.",
    "My sleep was better this week because I kept the same wake time.",
    "I felt nervous before the team lunch but I stayed for all of it.",
)
JOURNAL_CLOSINGS = (
    "Tomorrow I want to get outside before work.",
    "I am proud that I finished the homework this week.",
    "I noticed the worry passed faster than it used to.",
    "Three good things today: coffee with a friend, the sunshine, a quiet evening.",
    "I will bring this up with my therapist next session.",
    "Overall a better day than I expected.",
)

WARNING_SIGNS = (
    "Staying in bed past noon",
    "Not answering messages from friends",
    "Sleeping less than four hours",
    "Skipping meals",
)
COPING_STRATEGIES = (
    "Box breathing for five minutes",
    "Walk around the block",
    "Listen to my calm playlist",
    "Take a warm shower",
)
DISTRACTION_PLACES = ("The public library", "The coffee shop on Main Street")
ENVIRONMENTAL_SAFETY = (
    "Medication kept by my partner, a week at a time",
    "Car keys with a friend on bad nights",
)
REASONS_TO_LIVE = ("My children", "My dog", "Finishing my degree", "My friends")
RESOLUTIONS = (
    "Same-day call with therapist; safety plan reviewed and updated.",
    "Seen at urgent appointment; risk reduced, weekly follow-up agreed.",
    "Reviewed with patient; statement was about a past period, no current risk.",
)
