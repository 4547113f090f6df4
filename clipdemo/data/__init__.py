"""What pictures come from and what is made of many of them: galleries, uploads, joint maps and collections.

May import: clipdemo.core.
"""
