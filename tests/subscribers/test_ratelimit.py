from subscribers.ratelimit import allow


def test_hits_within_the_limit_pass_and_the_next_one_is_refused():
    results = [allow("test", "198.51.100.1", limit=3, window=60) for _ in range(4)]
    assert results == [True, True, True, False]


def test_counters_are_per_identifier_and_per_scope():
    assert allow("test", "a", limit=1, window=60)
    assert not allow("test", "a", limit=1, window=60)
    assert allow("test", "b", limit=1, window=60)
    assert allow("other", "a", limit=1, window=60)


def test_a_limit_of_zero_means_no_limit():
    assert all(allow("test", "c", limit=0, window=60) for _ in range(50))
