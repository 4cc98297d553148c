"""nbgrader configuration for fnn-course.

The course directory is this repository:

    solutions/<assignment>/   nbgrader "source": solutions and hidden tests (instructors only)
    exercises/<assignment>/   nbgrader "release": generated from solutions/, committed
    grading/                  local grading state, never committed (see .gitignore):
        submitted/<student>/<assignment>/   collected submissions
        autograded/ feedback/               nbgrader's outputs
        gradebook.db                        the gradebook (SQLite by default)

Environment variables (all optional):
    FNN_GRADEBOOK_URL   any SQLAlchemy URL for the gradebook, e.g. postgresql://user@host/fnn
                        (default: sqlite:///<repo>/grading/gradebook.db)
    FNN_CELL_TIMEOUT    seconds one cell of a submission may run before it is interrupted (default 60)
    FNN_COURSE_ID       the course id (default fnn-course)
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = os.environ.get("FNN_COURSE_ID", "fnn-course")
c.CourseDirectory.root = HERE
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = os.path.join("grading", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("grading", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("grading", "feedback")
c.CourseDirectory.solution_directory = os.path.join("grading", "solution")
c.CourseDirectory.db_url = os.environ.get(
    "FNN_GRADEBOOK_URL",
    "sqlite:///" + os.path.join(HERE, "grading", "gradebook.db"),
)

# Student code gets this long per cell; a cell that runs longer is interrupted and recorded as an
# error, and grading goes on with the next cell and the next submission.
c.Execute.timeout = int(os.environ.get("FNN_CELL_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True

# A student who deletes a test cell gets it back from the gradebook (and is graded by it).
c.OverwriteCells.add_missing_cells = True

# Notebooks are released without outputs; the header stays plain (no per-student header file).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Rubrics are for graders only. In the source notebook, the point-by-point rubric (with the model
# answer) of a written question sits in the question's locked markdown cell between
#   ### BEGIN MARK SCHEME   and   ### END MARK SCHEME
# nbgrader's ClearMarkScheme removes that region from the release; the gradebook keeps the full cell,
# so the autograded copy (which the Formgrader shows next to the student's answer) has it back.
# The question cells are locked markdown cells, not "task" cells, hence enforce_metadata = False.
c.ClearMarkScheme.enforce_metadata = False

# Feedback (nbgrader generate_feedback, `make feedback A=<id>`): students get it back, so it must not
# show the hidden tests, and it must typeset its formulas offline. nbgrader 0.9.6 has no option for
# either; fnngrade/feedback.py explains both parts:
# - HideHiddenTests removes every ### BEGIN/END HIDDEN TESTS region from the graded notebook (a one-line
#   note keeps its place) and every output line that quotes a hidden line (tracebacks);
# - rubrics stay (returned feedback may show how an answer was marked); LabelMarkScheme shows each
#   under a label instead of the marker lines (c.LabelMarkScheme.hide = True leaves rubrics out, e.g.
#   while extended submissions are still open);
# - the fnn_feedback template is nbgrader's feedback page with MathJax 3 inlined from fnngrade/static/
#   instead of loaded from a CDN.
import nbgrader  # noqa: E402  (where nbgrader's own feedback template lives)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from fnngrade.feedback import TEMPLATES, HideHiddenTests, LabelMarkScheme, TranslatedTaskText  # noqa: E402

# - TranslatedTaskText: a submission made from the Chinese release (zh/exercises, `make zh`) gets its
#   feedback with the Chinese task texts (autograding put the source's English back).
c.GenerateFeedback.preprocessors = [GetGrades, TranslatedTaskText, HideHiddenTests, LabelMarkScheme,
                                    CSSHTMLHeaderPreprocessor]
c.HTMLExporter.template_name = "fnn_feedback"
c.HTMLExporter.extra_template_basedirs = [
    str(TEMPLATES),
    os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates"),
]
c.HTMLExporter.filters = {"fnn_mathjax_script": "fnngrade.feedback.mathjax_script"}

# ---------------------------------------------------------------------------------------------------
# The exchange and the state folder (docs/instructors.md, "The exchange").
#   FNN_EXCHANGE   nbgrader's exchange folder, shared by the instructor and every student account
#                  (default <this folder>/grading/exchange)
# release_assignment, fetch_assignment, submit, collect, release_feedback and fetch_feedback go through
# the exchange. The default serves one machine (this clone, the CI test). On a JupyterHub, set
# FNN_EXCHANGE to the hub's shared folder (e.g. /srv/nbgrader/exchange) for the instructor and give
# students the same folder in /etc/jupyter/nbgrader_config.py (docs/jupyterhub.md).
c.Exchange.root = os.environ.get("FNN_EXCHANGE") or os.path.join(HERE, "grading", "exchange")
# The gradebook's folder and the default exchange are made when nbgrader or the Formgrader first reads
# this file, so the Formgrader works on a fresh clone: SQLite cannot create a database in a missing
# folder, and a Formgrader started while the exchange is missing offers no Release button until it is
# restarted. The exchange is writable by everyone (what nbgrader's release_assignment would set).
try:
    if "FNN_GRADEBOOK_URL" not in os.environ:
        os.makedirs(os.path.join(HERE, "grading"), exist_ok=True)
    if not os.environ.get("FNN_EXCHANGE") and not os.path.isdir(c.Exchange.root):
        os.makedirs(c.Exchange.root)
        os.chmod(c.Exchange.root, 0o777)
except OSError:  # a read-only course folder: nbgrader then names the folder it cannot use
    pass
