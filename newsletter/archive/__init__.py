"""The public archive: the site index, each newsletter's landing page with its signup form,
issue pages, feeds, the sitemap and robots.txt.

views.py answers requests from page_cache.py (the one module that decides what is cached
and when it goes stale) and reads a page's rows through state.py only on a miss.
"""
