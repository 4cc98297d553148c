"""fnngrade: sandboxed, parallel, resumable autograding for the course's nbgrader assignments.

Usage (from the course root, the folder holding ``nbgrader_config.py``)::

    python -m fnngrade autograde 01-neuron-activations            # every core, sandboxed
    python -m fnngrade autograde 01-neuron-activations --workers 2 --timeout 30
    python -m fnngrade autograde 01-neuron-activations --force    # regrade everything
    python -m fnngrade summary 01-neuron-activations              # rewrite the summary CSV

It grades every submission under ``grading/submitted/*/<assignment>/`` with nbgrader's own
``Autograde`` converter (not a rewrite), changed in these places:

Sandbox
    Each kernel runs through the ``fnngrade-sandbox`` kernelspec, whose launcher
    (:mod:`fnngrade.launch`) sets resource limits and execs bubblewrap (``/usr/bin/bwrap``, Debian
    package ``bubblewrap``). The jail holds ``/usr``, the venv, the Python install and the
    ``fnnlib`` folder read-only; the kernel works in a private tmpfs of ``--cwd-mb`` MB filled with
    a copy of the submission's files, and has a private ``/tmp`` and a socket folder of its own:
    no ``solutions/``, no gradebook, no other student, no home directory, no network. The kernel
    runs as an unprivileged host uid leased for the run (:class:`fnngrade.grader.UidLease`: a
    ``flock`` per uid under ``/run/fnngrade/kernel-uids``, so two runs on one host never share
    one), so ``RLIMIT_NPROC`` holds; ``RLIMIT_AS``, ``RLIMIT_CPU`` and ``RLIMIT_FSIZE`` bound
    memory, CPU time and file size. Without a working bwrap the grader refuses to run student
    code unless ``--unsandboxed`` is given. See :mod:`fnngrade.sandbox` for the exact mounts.

Nothing the kernel touches is trusted
    A kernel's stdin, stdout and stderr are ``/dev/null`` and a private file; it inherits no other
    descriptor. Workers answer on a pipe of their own, every line signed (HMAC-SHA256) with a
    secret of the run that never enters a jail, and the orchestrator takes a result only for the
    job that worker is doing, and no path or name from it (:mod:`fnngrade.worker`). Submissions
    are untrusted bytes: they are copied before anything runs without following any link, FIFOs,
    sockets, devices and hard links dropped and named in the reason, within ``--max-files`` and
    ``--max-submission-mb`` (:mod:`fnngrade.files`); nbgrader sees that copy under a job token,
    never the student's id, and writes the executed notebook into a folder of root's that no
    kernel sees. The only host folder a kernel can write is its own socket folder, on a small
    ``nosymfollow`` tmpfs of the worker's private mount namespace, removed after the kernel. So no
    chmod, chown, open or copy by root ever goes through a path a student's code controlled.

Robust execution
    :class:`fnngrade.preprocessors.SafeExecute` replaces nbgrader's ``Execute``: a cell past the
    timeout is interrupted, a kernel that ignores the interrupt is killed, a dead kernel
    (``os._exit``, a signal, the CPU limit) gets an error in the cell where it died and the later
    cells are marked "not run", so the submission is still graded.

Tests outside the student's interpreter
    The autograded test cells never run in the kernel: :class:`fnngrade.remote.Checker` runs them
    in the worker, looks the student's names up in the kernel over a Unix socket (plain data is
    copied out and decoded strictly; other objects stay in the kernel behind handles) and writes
    the cells' outputs itself, so nothing the answers patch in the kernel decides a grade and no
    hidden test enters the kernel (docs/remote-checker.md). ``--tests-in-kernel`` runs them in the
    kernel, as plain nbgrader does, to measure the difference.

Output and metadata
    :class:`~fnngrade.preprocessors.LimitOutputChars` cuts every cell's output to
    ``--max-output-chars`` characters (nbgrader's LimitOutput counts lines only), and
    :class:`~fnngrade.preprocessors.RepairCells` repairs renamed or duplicated grade ids, which make
    nbgrader 0.9.6 fail the whole submission.

States
    Every submission ends in one state, with a reason: ``graded``, ``timed out`` (a cell past
    ``--timeout``, or the whole submission past ``--submission-timeout``, default 300 s: the
    kernel is stopped and the cells that ran keep their points), ``crashed``, ``malformed`` (not
    a readable notebook, or a notebook that is a link or a FIFO) or ``missing`` (no notebook). The
    state, scores and reason go to ``grading/.fnngrade/<assignment>/state/<name>.json`` (the id,
    or ``~`` and a hash of it for an id that is long, has odd characters or is not UTF-8) and to
    the gradebook as soon as the submission is done, so a killed run loses nothing; a re-run
    skips submissions whose state file matches their content (``--force`` regrades,
    ``--retry-failed`` regrades the ones not ``graded``) and removes the scratch folders a killed
    run left. ``missing`` and ``malformed`` submissions get 0 in the gradebook (nbgrader's
    treatment of a missing notebook), so they show up in ``nbgrader export``. Manual scores are
    never touched. Any exception while handling one submission becomes its ``crashed`` state; a
    gradebook locked for longer than ``--db-wait`` seconds leaves results in the state files
    (``merged: false``, said in the summary), merged by the next run; a full disk stops the batch
    with exit status 3, everything recorded so far kept.

Parallel, on Dask
    One task per submission on a Dask cluster (:mod:`fnngrade.engine`): by default a local cluster
    of ``--workers N`` processes (default: the number of cores), or a running cluster given with
    ``--scheduler tcp://host:8786`` whose workers were started on other hosts with ``dask worker
    ... --nthreads 1``. Each Dask worker process owns one fnngrade worker (:mod:`fnngrade.worker`),
    with its own course root under ``grading/.fnngrade/<assignment>/workers@<host>-*/w0/`` (a copy
    of ``nbgrader_config.py``, the assignment source and a SQLite gradebook holding the
    assignment's definition), two leased kernel uids and its jailed kernels; it starts the next
    submission's kernel (imports done) while the current one runs. The task reads that worker's
    signed answer and returns it, with the autograded files as bytes, signed with the run's secret;
    the client checks it and is the only writer: state files, ``grading/autograded/`` and the
    course gradebook (``--db URL``; SQLite or PostgreSQL), merged one submission at a time by a
    thread of its own as results arrive. A worker that hangs past the submission budget plus 90 s
    is killed and replaced; a Dask worker that dies has its task run again elsewhere, and each
    submission is recorded once. At the end a table per state and per test is printed and
    written to ``grading/summary-<assignment>.csv`` (one row per submission:
    ``grading/states-<assignment>.csv``).

Several hosts
    Give every grading host the course files at the same path (``nbgrader_config.py``,
    ``solutions/<a>/`` and the collected ``grading/submitted/``, e.g. on a shared or rsynced
    folder; or ``FNNGRADE_COURSE_ROOT`` in the worker's environment), root, bwrap and the venv,
    and start ``dask worker tcp://sched:8786 --nworkers <cores> --nthreads 1 --memory-limit 0``
    there; then run ``python -m fnngrade autograde <a> --scheduler tcp://sched:8786`` where the
    gradebook is. Hosts may join during a batch. PostgreSQL needs a driver for SQLAlchemy in the
    venv: ``psycopg`` (pip package ``psycopg[binary]``, in the instructor tools).
"""

__all__ = ["grader", "engine", "preprocessors", "sandbox", "gradebook", "worker", "remote", "agent", "files"]
