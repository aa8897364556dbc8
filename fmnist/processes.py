"""One model's TensorFlow work in a process of its own. TensorFlow fixes its kernels (oneDNN's or Eigen's) and
its threads per operation when it loads, and each model's params choose both, so a tool that trains several
models (the seed study, the bench) trains each in a fresh process, as the pipeline's own stages do."""
import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def in_own_process(function, *args):
    """function(*args) in a fresh Python process (spawned: nothing of this one's TensorFlow is inherited); returns
    its result, or raises its exception. `function` must be a module-level function."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()
