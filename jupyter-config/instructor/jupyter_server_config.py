# Notebooks are served with the language_info of the kernel they name, so that opening one and
# starting its kernel does not mark it modified (jupyter-config/course_contents.py says why).
import importlib.util
import os

_spec = importlib.util.spec_from_file_location(
    "fnn_course_contents", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "course_contents.py"))
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
c.ServerApp.contents_manager_class = _module.CourseContentsManager  # noqa: F821 (c is given by traitlets)
