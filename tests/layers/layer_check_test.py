#!/usr/bin/env python3
"""The layer checker itself: it passes a tree that keeps its table and fails, naming the file,
line and edge, on an upward include, an unlisted folder and a table naming an unknown folder."""
import os
import subprocess
import sys
import tempfile
import unittest

CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layer_check.py")
TABLE = "core:\nsim: core\npipeline: core sim\ntests: *\n"


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class LayerCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        write(self.root, "cmake/layers.txt", TABLE)
        write(self.root, "core/clock.h", "#pragma once\n#include <cstdint>\n")
        write(self.root, "sim/book.h", '#pragma once\n#include "core/clock.h"\n#include "sim/x.h"\n')
        write(self.root, "pipeline/run.cc", '#include "sim/book.h"\n#include <core/clock.h>\n')
        write(self.root, "tests/t.cc", '#include "pipeline/run.h"\n')

    def tearDown(self):
        self.tmp.cleanup()

    def run_checker(self):
        return subprocess.run([sys.executable, CHECKER, self.root], capture_output=True, text=True)

    def assert_fails(self, exit_code, *messages):
        r = self.run_checker()
        self.assertEqual(r.returncode, exit_code, r.stderr)
        for m in messages:
            self.assertIn(m, r.stderr)

    def test_a_tree_that_keeps_the_table_passes(self):
        r = self.run_checker()
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_an_upward_include_fails_naming_file_line_and_edge(self):
        write(self.root, "sim/quoter.cc", '#include "sim/book.h"\n\n#include "pipeline/run.h"\n')
        self.assert_fails(1, 'sim/quoter.cc:3: sim -> pipeline (#include "pipeline/run.h"); ' "sim may include: core")

    def test_angle_bracket_includes_are_checked_too(self):
        write(self.root, "core/bad.h", "#include <sim/book.h>\n")
        self.assert_fails(1, "core/bad.h:1: core -> sim", "core may include: nothing")

    def test_a_folder_missing_from_the_table_fails(self):
        write(self.root, "gateway/order.cc", '#include "core/clock.h"\n')
        self.assert_fails(1, "gateway/: holds sources but has no row in the layer table")

    def test_a_table_naming_an_unknown_folder_fails(self):
        write(self.root, "cmake/layers.txt", TABLE + "sinks: core simm\n")
        self.assert_fails(1, "sinks allows unknown folder 'simm'")

    def test_a_malformed_table_is_bad_input(self):
        write(self.root, "cmake/layers.txt", "core\n")
        self.assert_fails(2, "layers.txt:1")


if __name__ == "__main__":
    unittest.main(verbosity=2)
