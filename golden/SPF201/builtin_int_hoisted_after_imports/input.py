#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Limits."""
import os


def limit():
    return int("0x7fff", 16) + len(os.sep)
