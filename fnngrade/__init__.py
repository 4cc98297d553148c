"""fnngrade: sandboxed, parallel, resumable autograding for the course's nbgrader assignments.

Usage (from the course root, the folder holding ``nbgrader_config.py``)::

    python -m fnngrade autograde 01-neuron-activations            # every core, sandboxed
    python -m fnngrade autograde 01-neuron-activations --workers 2 --timeout 30
    python -m fnngrade autograde 01-neuron-activations --force    # regrade everything
    python -m fnngrade summary 01-neuron-activations              # rewrite the summary CSV

It grades every submission under ``grading/submitted/*/<assignment>/`` with nbgrader's own
``Autograde`` converter (not a rewrite), changed in four places:

Sandbox
    Each kernel runs through the ``fnngrade-sandbox`` kernelspec, whose launcher
    (:mod:`fnngrade.launch`) sets resource limits and execs bubblewrap (``/usr/bin/bwrap``, Debian
    package ``bubblewrap``). The jail holds ``/usr``, the venv, the Python install and the
    ``fnnlib`` folder read-only, the student's own autograded folder read-write, the worker's
    socket folder and a private ``/tmp``: no ``solutions/``, no gradebook, no other student, no
    home directory, no network. The kernel runs as an unprivileged host uid (``64000 + worker``),
    so ``RLIMIT_NPROC`` holds; ``RLIMIT_AS``, ``RLIMIT_CPU`` and ``RLIMIT_FSIZE`` bound memory, CPU
    time and file size. nbgrader talks to the kernel over IPC sockets at an absolute path. Without
    a working bwrap the grader refuses to run student code unless ``--unsandboxed`` is given. See
    :mod:`fnngrade.sandbox` for the exact mounts and why a user namespace is not used.

Robust execution
    :class:`fnngrade.preprocessors.SafeExecute` replaces nbgrader's ``Execute``: a cell past the
    timeout is interrupted, a kernel that ignores the interrupt is killed, a dead kernel
    (``os._exit``, a signal, the CPU limit) gets an error in the cell where it died and the later
    cells are marked "not run", so the submission is still graded. A test-cell guard
    (:mod:`fnngrade.guard`) restores the instructor's imports and the numpy/fnnlib functions before
    each test cell. :class:`~fnngrade.preprocessors.LimitOutputChars` cuts every cell's output to
    ``--max-output-chars`` characters (nbgrader's LimitOutput counts lines only), and
    :class:`~fnngrade.preprocessors.RepairCells` repairs renamed or duplicated grade ids, which make
    nbgrader 0.9.6 fail the whole submission.

States
    Every submission ends in one state, with a reason: ``graded``, ``timed out``, ``crashed``,
    ``malformed`` (not a readable notebook) or ``missing`` (no notebook). The state, scores and
    reason go to ``grading/.fnngrade/<assignment>/state/<student>.json`` and the gradebook as soon
    as the submission is done, so a killed run loses nothing; a re-run skips submissions whose
    state file matches their content (``--force`` regrades, ``--retry-failed`` regrades the ones
    not ``graded``). ``missing`` and ``malformed`` submissions get 0 in the gradebook (nbgrader's
    treatment of a missing notebook), so they show up in ``nbgrader export``. Manual scores are
    never touched.

Parallel
    ``--workers N`` (default: the number of cores) long-lived workers, each with its own course
    root under ``grading/.fnngrade/<assignment>/workers/wK/`` (a copy of ``nbgrader_config.py``,
    the assignment source and its own SQLite gradebook), so kernels and databases never collide;
    results are merged into the course gradebook (``--db URL``; SQLite or PostgreSQL) one
    submission at a time through :class:`nbgrader.api.Gradebook`. A worker that hangs longer than
    ``--submission-timeout`` is killed and replaced. At the end a table per state and per test is
    printed and written to ``grading/summary-<assignment>.csv`` (one row per submission:
    ``grading/states-<assignment>.csv``).

Several hosts
    Give every host the same course root contents (``nbgrader_config.py``, ``solutions/<a>/`` and
    the collected ``grading/submitted/``, e.g. on a shared or rsynced folder) and the same
    PostgreSQL gradebook, and run shard ``i`` of ``n`` on host ``i``::

        host1$ python -m fnngrade autograde 01-neuron-activations --shard 1/3 --db postgresql://grader@db/fnn
        host2$ python -m fnngrade autograde 01-neuron-activations --shard 2/3 --db postgresql://grader@db/fnn
        host3$ python -m fnngrade autograde 01-neuron-activations --shard 3/3 --db postgresql://grader@db/fnn

    A student belongs to shard ``crc32(student_id) % n + 1``, computed from the id alone, so the
    hosts agree without talking to each other and every submission is graded exactly once. Each
    host registers the assignment in the database (``nbgrader generate_assignment``, idempotent)
    and merges only its own students; start one host a few seconds before the others the first
    time, so that the assignment's rows are created once. State files and autograded notebooks
    stay on each host (copy ``grading/autograded/`` back for feedback); the gradebook holds all
    scores, and ``nbgrader export`` on any host exports the whole class. PostgreSQL needs a driver
    for SQLAlchemy in the venv: ``psycopg`` (pip package ``psycopg[binary]``, in the test extras).
"""

__all__ = ["grader", "preprocessors", "sandbox", "gradebook", "worker", "guard"]
