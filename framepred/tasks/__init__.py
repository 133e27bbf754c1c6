"""Training recipes: what one optimiser step computes for a model family (losses, inputs, schedule).

Tasks register by name (``framepred.tasks.registry``), so the engine never branches on a model name.
"""

from framepred.tasks.base import Task
from framepred.tasks.registry import create_task, list_tasks, register_task, task_class

__all__ = ["Task", "create_task", "list_tasks", "register_task", "task_class"]
