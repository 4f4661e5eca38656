"""The TFB tables, created by run.py (not by migrations)."""

from django.db import models


class World(models.Model):
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "world"
        managed = False


class Fortune(models.Model):
    message = models.CharField(max_length=2048)

    class Meta:
        db_table = "fortune"
        managed = False
