"""monitor: a news-monitoring daemon with Russian-aware watch rules and exactly-once alerts."""

__version__ = "0.1.0"
USER_AGENT = f"monitor/{__version__} (news monitoring; +https://github.com/monitor-news/monitor)"
