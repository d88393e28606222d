"""Stand-ins shared by the unit tests of module flows (imported as ``fakes``: pytest puts this
directory on sys.path, as there is no __init__.py)."""


class Failed(Exception):
    """What FakeModule's fail_json and fail_json_aws raise: the failure result, and the AWS error behind it."""

    def __init__(self, result, exception=None):
        super().__init__(result.get("msg"))
        self.result = result
        self.exception = exception


class FakeModule:
    """What the flows use of AnsibleModule / AnsibleAWSModule: params, check_mode, region, warn, no_log_values,
    no_log, and client() for flows that make their own AWS client.

    It has no exit_json: a flow returns its result. fail_json and fail_json_aws
    are there for the module's failure path (module_utils/aws_module.py); a
    flow raises its errors instead.
    """

    region = "us-west-2"

    def __init__(self, params, check_mode=False, clients=None, no_log=False):
        self.params = params
        self.check_mode = check_mode
        self.clients = clients or {}
        self.no_log = no_log  # the task's no_log
        self.warnings = []
        self.no_log_values = set()  # what AnsibleModule masks in its output; flows add secrets they find

    def client(self, service, retry_decorator=None, **kwargs):
        """AnsibleAWSModule.client: the (Stubber-backed) client the test gave for ``service``."""
        return self.clients[service]

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **result):
        raise Failed(result)

    def fail_json_aws(self, exception, msg=None, **result):
        raise Failed(dict(result, msg=msg), exception)


class FakeClock:
    """A clock for the wait and retry loops that records sleeps instead of sleeping.

    Its wall clock stands still at 2021-02-08T21:00:00Z, the day of the AWS post.
    """

    WALL = 1612818000

    def __init__(self):
        self.time = 1000.0
        self.sleeps = []

    def now(self):
        return self.time

    def wall(self):
        return self.WALL

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.time += seconds
