#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Limits."""
import os


def writable(mode):
    return mode in frozenset(("w", "a", "x")) and len(os.sep) == 1
