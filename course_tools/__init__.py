"""The course's tooling: build and check exercise sheets, and grade submissions.

Learners never need this package; ``course_lib`` is what they import. Modules:

* :mod:`course_tools.sheet_format`: the sheet format (metadata, markers, placeholder, points,
  kinds, the pass line), the one definition every tool uses;
* :mod:`course_tools.sheets`: ``python -m course_tools.sheets build|check-sync|report``;
* :mod:`course_tools.grade`: ``python -m course_tools.grade`` (with ``reference``,
  ``submission``, ``verdict``, ``report`` and ``sandbox``);
* ``course_tools/inside/``: the code that runs inside the grading sandbox.

Its dependencies are the ``tools`` extra: ``pip install ".[tools]"``.
"""
