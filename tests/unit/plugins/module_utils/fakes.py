"""Stand-ins shared by the unit tests of module flows (imported as ``fakes``: pytest puts this
directory on sys.path, as there is no __init__.py)."""


class Exited(Exception):
    """What a fake module's exit_json raises, carrying the result the flow exited with."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeClock:
    """A clock for the wait and retry loops that records sleeps instead of sleeping."""

    def __init__(self):
        self.time = 1000.0
        self.sleeps = []

    def now(self):
        return self.time

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds
