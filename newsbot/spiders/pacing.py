"""Pacing: a spider's walk steps and new article links wait while the scheduler has plenty to do, so
a backfill's memory does not grow with the site (docs/crawling.md, Backfill).

What was let in counts as queued until the scheduler has it: Scrapy schedules a callback's output
asynchronously, and answers handled meanwhile would each let in room that others had already filled.
Steps go through `step`, new article links through `articles`; each answer to a paced request calls
`answered`, then yields `resume`.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Callable, Iterator

import scrapy

from newsbot.memo import TextQueue

logger = logging.getLogger(__name__)

# Meta key of a walk step while it is out (counted against STEPS_OUT).
WALK_STEP = "newsbot_walk_step"
# Meta key of a paced request let in but not in the scheduler yet (Pacing.on_the_way).
ON_THE_WAY = "newsbot_on_the_way"
# Walk steps out at once while paced: each can add a whole page of new cards.
STEPS_OUT = 2


class Pacing:
    """backlog 0, and always with a JOBDIR, holds nothing: a JOBDIR's queue on disk holds a backlog at
    no memory cost, and a held step would be lost with a killed crawl's memory."""

    def __init__(self, crawler, backlog: int, article_request: Callable[[str], scrapy.Request]) -> None:
        self.crawler = crawler
        self.backlog = 0 if crawler.settings.get("JOBDIR") else backlog
        self.article_request = article_request
        self.paused: deque[scrapy.Request] = deque()
        self.steps_out = 0
        self.on_the_way = 0
        self.held = TextQueue()
        if self.backlog:  # unpaced, nothing is ever held back nor counted on its way
            crawler.signals.connect(self.request_scheduled, signal=scrapy.signals.request_scheduled)
            crawler.signals.connect(self.request_dropped, signal=scrapy.signals.request_dropped)
            crawler.signals.connect(self.count_held_at_close, signal=scrapy.signals.spider_closed)

    def step(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """A walk's next page: now, or paused until the scheduler drains."""
        if self.backlog and (self.paused or not self.may_step()):
            self.paused.append(request)
            self.crawler.stats.inc_value("newsbot/listing/walk_paused")
            return
        yield self.stepping(request)

    def articles(self, urls: list[str]) -> Iterator[scrapy.Request]:
        """New article links (already counted as asked for): those the scheduler has room for; the rest wait."""
        if not self.backlog:
            yield from map(self.article_request, urls)
            return
        self.held.extend(urls)
        yield from self.release_articles()
        if self.held:  # the newest are last: as many of these as are still there waited
            self.crawler.stats.inc_value("newsbot/listing/articles_held", min(len(urls), len(self.held)))

    def answered(self, request: scrapy.Request) -> None:
        if request.meta.pop(WALK_STEP, False):
            self.steps_out = max(0, self.steps_out - 1)

    def resume(self) -> Iterator[scrapy.Request]:
        """The held articles the scheduler has room for, then (none held) the paused steps, oldest first."""
        yield from self.release_articles()
        while self.paused and self.may_step():
            yield self.stepping(self.paused.popleft())

    def idle(self) -> list[scrapy.Request]:
        """spider_idle: what is still held back, now that nothing is out nor on its way (a middleware
        may have dropped a request unsignalled)."""
        if not (self.paused or self.held):
            return []
        self.steps_out = self.on_the_way = 0
        return list(self.resume())

    def queued(self) -> int:
        """The scheduler's requests, and the paced ones on their way to it."""
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        in_scheduler = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
        return in_scheduler + self.on_the_way

    def may_step(self) -> bool:
        return not self.held and self.steps_out < STEPS_OUT and self.queued() < self.backlog

    def release_articles(self) -> Iterator[scrapy.Request]:
        if self.held:
            # All counted on their way before the first is yielded: Scrapy may run other answers'
            # callbacks between two yields of this one.
            urls = self.held.take(self.backlog - self.queued())
            yield from [self.letting_in(self.article_request(url)) for url in urls]

    def stepping(self, request: scrapy.Request) -> scrapy.Request:
        if self.backlog:
            request.meta[WALK_STEP] = True
            self.steps_out += 1
            self.letting_in(request)
        return request

    def letting_in(self, request: scrapy.Request) -> scrapy.Request:
        request.meta[ON_THE_WAY] = True
        self.on_the_way += 1
        return request

    def request_scheduled(self, request: scrapy.Request, spider) -> None:
        if request.meta.pop(ON_THE_WAY, False):
            self.on_the_way = max(0, self.on_the_way - 1)

    def request_dropped(self, request: scrapy.Request, spider) -> None:
        self.request_scheduled(request, spider)
        self.answered(request)

    def count_held_at_close(self, spider, reason: str) -> None:
        """A crawl closed early leaves held links unasked: said, not lost without a word."""
        if self.held:
            self.crawler.stats.set_value("newsbot/listing/articles_held_at_close", len(self.held))
            logger.warning("Closed (%s) with %d article links found but not requested", reason, len(self.held))
