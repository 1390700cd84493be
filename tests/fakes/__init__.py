"""Fakes of outside services (provider HTTP APIs) for tests and benchmarks. Real servers on
loopback, not mocks."""
