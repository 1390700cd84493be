from newsletter.sending.per_process import IssueCache


def counting_maker(made):
    def make_for(issue_id, version):
        def make():
            made.append((issue_id, version))
            return f"{issue_id}@{version}"

        return make

    return make_for


def test_a_value_is_made_once_per_issue_version():
    made = []
    make = counting_maker(made)
    cache = IssueCache()
    assert cache.get(1, "v1", make(1, "v1")) == "1@v1"
    assert cache.get(1, "v1", make(1, "v1")) == "1@v1"
    assert cache.get(1, "v2", make(1, "v2")) == "1@v2"  # the issue was edited
    assert made == [(1, "v1"), (1, "v2")]


def test_the_oldest_issue_goes_once_the_cache_is_full():
    made = []
    make = counting_maker(made)
    cache = IssueCache(max_issues=2)
    for issue_id in (1, 2, 3):
        cache.get(issue_id, "v", make(issue_id, "v"))
    cache.get(3, "v", make(3, "v"))
    cache.get(2, "v", make(2, "v"))
    cache.get(1, "v", make(1, "v"))  # made again: it was the oldest
    assert made == [(1, "v"), (2, "v"), (3, "v"), (1, "v")]
