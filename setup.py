"""The wheel's contents; everything else (dependencies, extras, the `clipdemo` command, the version) is in
pyproject.toml. Here only because pyproject.toml cannot map a folder outside the package into it: the bundled toy
CLIP, the toy pictures and the photos (with their licence) stay in assets/, where a checkout and a Space read them,
and go into the wheel as clipdemo/bundled/ (clipdemo.core.assets finds them there through importlib.resources).
"""

from setuptools import find_packages, setup

BUNDLED = {"toy-clip": ["*.json", "*.txt", "*.md", "model.safetensors"], "toy": ["*.png", "*.webm"],
           "fonts": ["*.woff2", "OFL.txt"],
           "photos": ["*.jpg", "LICENSE.md"]}

setup(
    packages=[*find_packages(include=["clipdemo", "clipdemo.*"]), "clipdemo.bundled"],
    package_dir={"clipdemo.bundled": "assets"},
    package_data={"clipdemo": ["py.typed"],
                  "clipdemo.bundled": [f"{folder}/{pattern}" for folder, patterns in BUNDLED.items()
                                       for pattern in patterns]},
    include_package_data=False,  # only what is listed above: no stray files from a working tree
)
