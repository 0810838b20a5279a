"""Installs ``univg_plugin_hook.pth`` into site-packages (regular and editable installs), and ships ``recipes/``.

The .pth file runs one line at interpreter start: it puts a post-import hook on ``sys.meta_path`` that
patches LLaMA-Factory when (and only when) LLaMA-Factory is imported. Everything else is declared in
pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "univg_plugin_hook.pth"
SOURCE = Path("univg_plugin", "integrations", "llamafactory", PTH)


class BuildPyWithPth(build_py):
    """Regular wheels: put the .pth at the wheel root (= site-packages) and the recipes in the package.

    (A source checkout or an editable install finds ``recipes/`` beside the package instead.)
    """

    def run(self):
        super().run()
        self.copy_file(str(SOURCE), str(Path(self.build_lib, PTH)))
        self.copy_tree("recipes", str(Path(self.build_lib, "univg_plugin", "recipes")))

    def get_outputs(self, include_bytecode=True):
        recipes = [
            str(Path(self.build_lib, "univg_plugin", path)) for path in Path().glob("recipes/**/*") if path.is_file()
        ]
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib, PTH)), *recipes]


class EditableWheelWithPth(editable_wheel):
    """Editable installs: add the .pth to the root of the editable wheel."""

    def _run_build_commands(self, dist_name, unpacked_wheel, build_lib, tmp_dir):
        result = super()._run_build_commands(dist_name, unpacked_wheel, build_lib, tmp_dir)
        shutil.copyfile(SOURCE, Path(unpacked_wheel, PTH))
        return result


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
