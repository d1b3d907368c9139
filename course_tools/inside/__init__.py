"""Code that runs inside the grading sandbox (copied into each job directory).

These files use the standard library (and, for the plugin, pytest and nbval) only: they must
not import ``course_tools`` or ``course_lib``, which the sandbox may not see.
"""
