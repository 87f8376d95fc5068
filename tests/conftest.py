"""The ``slow`` mark: end-to-end checks that take ten seconds or more on two cores
(``python -m pytest --durations=20`` shows them). CI runs every test; while editing,
``python -m pytest -m "not slow"`` leaves these out. Listed here, by test id, so
that one place says which they are."""

import pytest

SLOW = {
    "test_notebooks_graded.py::test_a_depth_width_notebook_earns_what_the_files_earn_and_runs_no_top_level_work",
    "test_grader_cli.py::test_reference_solution_earns_full_marks",
    "test_reference.py::test_reference_solutions_clear_their_thresholds_with_margin",
    "test_hints.py::test_the_failure_carries_the_hint[waits for an accuracy it never reaches]",
    "test_courses.py::test_models_only_reference_earns_full_marks_as_recognised",
    "test_grader_broken.py::test_dataloader_workers_die_with_a_stopped_question",
    "test_grader_broken.py::test_broken_submission[endless_training]",
    "test_grader_cli.py::test_same_submission_and_seed_give_the_same_grade",
    "test_figures.py::test_reference_figures_show_what_was_scored",
    "test_bulk.py::test_shards_merge_into_the_whole",
    "test_bulk.py::test_an_interrupted_run_finishes_on_the_next[SIGKILL]",
    "test_parallel.py::test_a_hanging_question_holds_back_only_later_blocks_and_ctrl_c_stops_all",
    "test_bulk.py::test_an_interrupted_run_finishes_on_the_next[SIGINT]",
    "test_depth_width.py::test_the_staff_solution_earns_full_marks",
    "test_depth_width.py::test_the_written_answers_and_the_skeleton",
    "test_depth_width.py::test_the_epochs_and_the_batch_size_are_counted_from_the_training",
    "test_mlp_from_scratch.py::test_the_staff_solution_earns_full_marks_with_margin",
    "test_mlp_from_scratch.py::test_a_training_loop_that_never_ends_is_stopped_at_the_limit",
    "test_bwrap.py::test_the_reference_earns_the_same_with_and_without_bwrap",
    "test_lms_downloads.py::test_bulk_grades_a_canvas_download_into_the_csv",
    "test_slurm.py::test_a_class_graded_through_slurm_equals_one_machine_and_a_cancelled_task_resumes",
}


def pytest_collection_modifyitems(items):
    found, files = set(), set()
    for item in items:
        name = f"{item.path.name}::{item.name}"
        files.add(item.path.name)
        if name in SLOW:
            item.add_marker(pytest.mark.slow)
            found.add(name)
    if len(items) > 10 * len(files):   # whole files collected: each listed test must exist
        missing = {name for name in SLOW - found if name.split("::")[0] in files}
        assert not missing, f"tests/conftest.py lists tests that do not exist: {missing}"
