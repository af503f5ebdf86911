"""Seeded synthetic demo data in Brazilian export formats, with the truth planted in it."""

from shelfwise.demo.generate import DemoFiles, generate_demo

__all__ = ["DemoFiles", "generate_demo"]
