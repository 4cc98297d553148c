"""fnnlib: the helper library of the fnn-course notebooks."""
