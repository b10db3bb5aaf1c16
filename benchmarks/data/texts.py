"""What generated speakers say: call-centre sentences, backchannels and enrolment prompts."""

from __future__ import annotations

__all__ = ["BACKCHANNELS", "ENROLMENT", "SENTENCES"]

SENTENCES: tuple[str, ...] = (
    "Hi, thanks for taking the time to talk with me today.",
    "Sure, I can look that up for you right now.",
    "We renewed the contract last spring, but the pricing changed since then.",
    "Could you tell me a little more about how your team uses the reports?",
    "Honestly, the onboarding took longer than we expected.",
    "That makes sense, and I think we can help with that.",
    "Our finance department needs the invoice by the end of the month.",
    "Let me share my screen so you can see the dashboard.",
    "How many people would need access to the new workspace?",
    "Around forty, maybe fifty once the second office joins.",
    "The integration with our calendar keeps dropping meetings.",
    "I will ask our support engineers to open a ticket for that.",
    "What would a successful rollout look like for you in three months?",
    "We mostly care about forecasting and about coaching new reps.",
    "I see, so the managers would be the main users.",
    "Can we schedule a follow-up call with your procurement team next week?",
    "Tuesday afternoon works better for us than Monday.",
    "The security review usually takes about two weeks on our side.",
    "I can send you our compliance documents after this call.",
    "Do you have a budget approved for this quarter already?",
    "Not yet, we are still comparing two other vendors.",
    "What did you like about the other options you looked at?",
    "Their mobile app felt faster, to be honest.",
    "That is good feedback, thank you for being direct.",
    "We released a new version of the app last month.",
    "Would it help if I set up a trial account for your team?",
    "Yes, a two week trial would be great.",
    "I will include a short guide for the first login.",
    "Who else should be on the invitation for the demo?",
    "Please add our operations lead and the head of sales.",
    "Great, I have noted both of them.",
    "Is there anything that would stop you from moving forward?",
    "Only the timeline, we are busy with the year end close.",
    "Understood, we can start the setup in January instead.",
    "Let me check the discount we talked about with my manager.",
    "Thanks, that would really help us get approval.",
    "I appreciate your patience while we sorted out the billing issue.",
    "The last invoice listed twelve seats instead of ten.",
    "You are right, I will correct that and send a new one today.",
    "Could you confirm the email address for the billing contact?",
)

BACKCHANNELS: tuple[str, ...] = (
    "Yeah.",
    "Mm-hmm.",
    "Right.",
    "Okay.",
    "Sure.",
    "I see.",
    "Got it.",
    "Exactly.",
)

ENROLMENT: tuple[str, ...] = (
    "This is a recording of my voice for the call assistant.",
    "My favourite season is autumn, when the leaves turn red and gold.",
    "Please call me back on the number I left with the front desk.",
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "I usually take the train to work and read the news on the way.",
)
