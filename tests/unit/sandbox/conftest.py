"""Unit tests of the sandbox's pure logic: tests/sandbox is put on the import path."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "sandbox"))
