"""Fakes of outside services (provider HTTP APIs) and bulk data helpers for tests and
benchmarks. Real servers on loopback, not mocks."""
