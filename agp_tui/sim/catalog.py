"""Static flavour for the simulated world: agents, models, prices, tasks, answers, errors.

Values are invented but shaped like the real platform (model ids, `h/` catalog agents,
org agents under their own prefix, bare subagent names) so a monitoring UI shows
plausible data. Everything here is immutable; randomness lives in `script.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["worker", "manager"]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    # Tokens per step: the actor reads a screenshot-heavy context every step; the planner
    # reads a longer history less often. `reasoning` is 0 for non-reasoning models.
    input_base: int
    input_growth: int
    output: tuple[int, int]
    reasoning: tuple[int, int]
    every: int  # called on one step in `every`
    # USD per million tokens (input, output, reasoning); None = unpriced, so the API
    # reports null costs, a case clients must handle.
    price: tuple[float, float, float] | None


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in (
        ModelSpec("holo3-1-35b-a3b", 1800, 320, (40, 260), (0, 0), 1, (0.15, 0.60, 0.60)),
        ModelSpec("holo3-122b-a10b", 4200, 650, (120, 700), (0, 0), 1, (0.40, 2.00, 2.00)),
        ModelSpec("gpt-5-mini", 3500, 500, (80, 400), (300, 2600), 2, (0.25, 2.00, 2.00)),
        ModelSpec("gemini-2.5-flash", 5200, 700, (100, 500), (200, 1800), 3, (0.30, 2.50, 2.50)),
        ModelSpec("acme-finetune-7b", 2500, 200, (30, 180), (0, 0), 1, None),
    )
}


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    role: Role
    models: tuple[str, ...]
    weight: int
    structured: bool = False  # answers are objects (an `answer_format` agent)


TOP_LEVEL_AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("h/web-surfer-flash", "worker", ("holo3-1-35b-a3b",), 30),
    AgentSpec("h/web-surfer", "worker", ("holo3-122b-a10b", "holo3-1-35b-a3b"), 20),
    AgentSpec("h/desktop-operator", "worker", ("holo3-122b-a10b", "holo3-1-35b-a3b"), 8),
    AgentSpec("acme/research-manager", "manager", ("holo3-122b-a10b", "gpt-5-mini"), 14),
    AgentSpec("h/deep-researcher", "manager", ("gemini-2.5-flash", "holo3-122b-a10b"), 6),
    AgentSpec("acme/lead-qualifier", "worker", ("gpt-5-mini", "holo3-1-35b-a3b"), 10),
    AgentSpec("acme/invoice-bot", "worker", ("acme-finetune-7b", "holo3-1-35b-a3b"), 7, structured=True),
)

SUBAGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("fast-searcher", "worker", ("holo3-1-35b-a3b",), 30),
    AgentSpec("page-reader", "worker", ("holo3-1-35b-a3b",), 20),
    AgentSpec("fact-checker", "worker", ("gpt-5-mini", "holo3-1-35b-a3b"), 12),
    AgentSpec("price-scout", "worker", ("holo3-122b-a10b", "holo3-1-35b-a3b"), 12),
    AgentSpec("form-filler", "worker", ("holo3-1-35b-a3b",), 8),
    AgentSpec("research-lead", "manager", ("holo3-122b-a10b", "gpt-5-mini"), 10),
)

KNOWN_AGENTS: dict[str, AgentSpec] = {a.name: a for a in TOP_LEVEL_AGENTS + SUBAGENTS}

TASKS: tuple[str, ...] = (
    "Top 3 stories on Hacker News right now?",
    "Find the cheapest direct flight Paris to Lisbon next Friday",
    "Compare pricing pages of the five largest vector databases",
    "Summarise the latest ECB monetary policy statement",
    "Check whether our docs site has broken links on the pricing page",
    "Collect contact emails for the speakers of PyCon FR 2026",
    "Download last month's invoices from the supplier portal",
    "Which EU countries changed their VAT rates this year?",
    "Qualify the 20 inbound leads in the CRM export",
    "Book a meeting room for 6 people on Thursday afternoon",
    "Find three open-source alternatives to our ticketing tool",
    "Extract the specs table for every laptop on the comparison page",
    "Research competitors' refund policies and report differences",
    "Fill in the vendor onboarding form with the attached details",
    "What are the opening hours of the Louvre this weekend?",
    "Track the price of the Sony WH-1000XM6 across four shops",
    "List the job openings for Rust engineers in Lyon",
    "Verify the claims in the attached press release",
    "Reconcile the bank statement with the ledger export",
    "Gather reviews of the new Holo3 release from tech press",
)

SUBTASKS: tuple[str, ...] = (
    "Search the web for '{topic}' and return the five best sources",
    "Read {site} and extract the key figures",
    "Check the claim: {topic}",
    "Find current prices for {topic}",
    "Open {site} and fill the contact form",
    "Coordinate a sub-team to cover {topic}",
)

SITES: tuple[str, ...] = (
    "news.ycombinator.com",
    "www.ecb.europa.eu",
    "www.google.com/flights",
    "github.com",
    "www.lemonde.fr",
    "docs.acme.example",
    "portal.supplier.example",
    "www.amazon.fr",
    "www.welcometothejungle.com",
    "www.louvre.fr",
    "crm.acme.example",
    "www.bing.com",
)

PAGE_TITLES: tuple[str, ...] = (
    "Search results",
    "Pricing — plans and features",
    "Release notes",
    "Contact us",
    "Product comparison",
    "Flight results: Paris to Lisbon",
    "Open positions",
    "Issue tracker",
)

TOOLS: tuple[str, ...] = (
    "navigate",
    "click",
    "type",
    "scroll",
    "extract",
    "search",
    "wait",
    "read_page",
)

STEP_NOTES: tuple[str, ...] = (
    "Opening {site}",
    "Searching for the relevant page",
    "Clicking the first promising result",
    "Reading the results table",
    "Scrolling to load more items",
    "Dismissing the cookie banner",
    "Extracting the figures I need",
    "Comparing the candidates so far",
    "Going back to refine the query",
    "Filling in the form fields",
    "Checking the details page",
    "Writing down intermediate findings",
)

REASONING_NOTES: tuple[str, ...] = (
    "The page lists prices in a table; I should extract it before scrolling.",
    "The search results look stale, a more specific query should help.",
    "Two sources disagree; I will check the primary one.",
    "I have enough for three items, one more to be safe.",
)

MANAGER_NOTES: tuple[str, ...] = (
    "Planning how to split the task",
    "Delegating research to subagents",
    "Waiting for subagent results",
    "Merging subagent findings",
    "Cross-checking the subagents' answers",
    "Drafting the final report",
)

FOLLOW_UPS: tuple[str, ...] = (
    "Thanks, can you add sources?",
    "Now do the same for last month",
    "Make it shorter please",
    "Can you double-check the second item?",
)

ANSWERS: tuple[str, ...] = (
    "1. {a} 2. {b} 3. {c}",
    "Done. Summary: {a}; {b}; {c}.",
    "I found {n} results. The best match is {a}.",
    "Here is the report: {a} leads, {b} follows, {c} trails.",
)

ANSWER_WORDS: tuple[str, ...] = (
    "Holo3 launch",
    "Rust 2026 survey",
    "open-source LLM evals",
    "EU AI Act update",
    "Lisbon 07:15 (89 EUR)",
    "Qdrant",
    "Weaviate",
    "Milvus",
    "ticket #4821",
    "room B-204",
)

ERRORS: dict[str, tuple[str, ...]] = {
    "environment_error": (
        "Browser environment failed to start",
        "Remote desktop connection lost",
    ),
    "no_answer": (
        "Agent stopped without producing an answer",
        "Reached max_steps without an answer",
    ),
    "internal": ("Internal error while running the agent",),
    "answer_validation": ("Answer did not match the requested answer_format",),
    "timeout": ("Session exceeded its maximum allowed time",),
}

GROUPS: tuple[str, ...] = ("nightly-batch-7", "crm-sync", "pricing-watch", "qa-smoke")

TERMINAL: frozenset[str] = frozenset({"completed", "failed", "timed_out", "interrupted"})
STATUSES: tuple[str, ...] = (
    "queued",
    "pending",
    "running",
    "paused",
    "idle",
    "awaiting_tool_results",
    "completed",
    "failed",
    "timed_out",
    "interrupted",
)
