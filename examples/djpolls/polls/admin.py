from django.contrib import admin

from .models import Choice, Question


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 1


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    fields = ["question_text", "pub_date"]
    inlines = [ChoiceInline]
    list_display = ["question_text", "pub_date"]
